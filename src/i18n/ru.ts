import type { TextKey } from "./en.ts";

/** Russian texts, the same keys as the English catalogue. */
export const ru: Record<TextKey, string> = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	botFallbackName: "Поддержка",

	statusNEW: "🆕 Новое",
	statusIN_PROGRESS: "🛠 В работе",
	statusWAITING_CLIENT: "⏳ Ждём ответа клиента",
	statusCLOSED: "✅ Закрыто",

	noticeStatus: "Статус изменён: {status}",
	noticeClosed: "Обращение закрыто.",
	noticeReopened: "Клиент написал снова — обращение открыто заново.",
	noticeRated: "Клиент оценил поддержку на {rating} из 5.",
	noticeFeedback: "Отзыв клиента: {feedback}",
	noticeLinked: "Клиент подключил Telegram ({who}): оба канала теперь ведут сюда.",
	noticeMergedInto: "Переписка с этим клиентом продолжается в другой теме: {topicLink}",
	noticeMergedFrom: "Сюда перенесена прежняя переписка этого клиента.",
	noticeTopicRecreated: "Прежняя тема была удалена или закрыта — переписка продолжается здесь.",
	noticeBlocked: "⚠️ Не доставлено в Telegram: клиент заблокировал бота.",
	noticeDmFailed: "⚠️ Не доставлено в Telegram: {reason}",
	noticeSlaReminder: "⏰ Клиент ждёт ответа уже {waited}. {admins}",
	noticeSlaBreach: "🚨 SLA нарушен: клиент ждёт ответа уже {waited}. {admins}",
	adminSlaBreach: "🚨 Клиент ждёт ответа уже {waited}: {topicLink}",
	dmWaitingReminder: "Мы ждём вашего ответа. Если вопрос решён, нажмите «✅ Вопрос решён».",
	webWaitingReminder: "Мы ждём вашего ответа. Если вопрос решён, обращение можно закрыть.",
	noticeDead:
		"⚠️ Не удалось доставить в Telegram: {reason}. Отправьте /retry в этой теме, чтобы повторить.",
	retryDone: "Снова в очереди: {count}.",
	noticePhone: "Клиент оставил номер телефона: {phone}",

	cardTitle: "Обращение в поддержку",
	cardName: "Имя",
	cardUsername: "Username",
	cardPhone: "Телефон",
	cardChannels: "Каналы",
	cardSource: "Страница",
	cardCity: "Город",
	cardCreated: "Создано",
	cardStatus: "Статус",
	cardNone: "—",
	cardVerified: "Подтверждено сайтом",
	cardEmail: "Email",
	channelWeb: "сайт",
	channelTelegram: "Telegram",

	callbackStatusSet: "Статус: {status}",
	callbackStatusSame: "Статус уже {status}.",
	callbackNotAllowed: "Этот статус ставится только автоматически.",
	callbackThanks: "Спасибо!",
	callbackNothingToRate:
		"Сейчас нечего оценивать: оценка уже поставлена или обращение снова открыто.",

	historyTitle: "История обращения (последние {count} событий, {zone}):",
	historyEmpty: "Событий пока нет.",
	historyLine: "{time} · {event} · {actor}",
	eventOPENED: "создано",
	eventREOPENED: "открыто заново",
	eventSTATUS_CHANGED: "статус → {status}",
	eventCLOSED: "закрыто",
	eventPHONE_UPDATED: "телефон обновлён",
	eventLINKED: "подключён Telegram",
	eventMOVED: "перенесён в группу поддержки {group}",
	eventIDENTIFIED: "вошёл на сайте",
	awayMessage:
		"Спасибо за сообщение! Сейчас мы не на связи и вернёмся {when}. Ответим сразу, как вернёмся.",
	noticeAway: "🌙 Нерабочее время: клиенту сообщили, что мы вернёмся {when}.",
	eventAWAY: "отправлен ответ «нас нет»",
	eventRATED: "оценка {rating} из 5",
	eventFEEDBACK: "отзыв",
	actorCustomer: "клиент",
	actorOperator: "оператор",
	actorSystem: "система",
	statsTitle: "📊 Поддержка сейчас",
	statsTitleGroup: "📊 Эта группа поддержки сейчас",
	statsNow: "Обращения: {counts}",
	statsNew: "Новые обращения: {today} сегодня, {week} за 7 дней",
	statsFirstResponse:
		"Первый ответ (медиана, 7 дней, рабочее время): {median} по {answered} обращениям",
	statsFirstResponseNone: "Первый ответ (7 дней): пока нет отвеченных обращений",
	statsCsat: "Оценка (30 дней): {average} / 5 по {count} оценкам",
	statsCsatNone: "Оценка (30 дней): оценок пока нет",
	statsOperators: "Операторы (7 дней):",
	statsOperator: "• {name}: ответов {replies}, закрыто {closes}",
	statsNoOperators: "Операторы (7 дней): ответов пока нет",
	helpText:
		"Команды в теме клиента:\n/history — история обращения\n/help — этот список\n/retry — повторить то, что не удалось доставить\n/stats — как идут дела (при нескольких группах — в этой группе; также в теме General)\n/assign — передать обращение коллеге (ответом на его сообщение или /assign @username)\n/unassign — снять ответственного\n/move <id группы> — перевести клиента в другую группу поддержки\n/erase — удалить все данные этого клиента (с подтверждением)\n/r <имя> — отправить шаблон ответа; /r — список, /r save <имя> [язык] (ответом) — сохранить, /r del <имя> — удалить\n\nСообщения, начинающиеся с // или #internal, остаются в теме и клиенту не отправляются. Кнопки карточки меняют статус и назначают обращение вам.",

	dmGreeting: "Здравствуйте! Напишите свой вопрос здесь — служба поддержки ответит в этом чате.",
	dmTicketCreated: "Спасибо! Обращение зарегистрировано, оператор скоро ответит здесь.",
	dmAskPhone: "Если хотите, оставьте номер телефона — мы сможем перезвонить. Это необязательно.",
	dmSharePhoneButton: "📱 Отправить мой номер",
	dmSkipButton: "Пропустить",
	dmPhoneSaved: "Спасибо, номер сохранён.",
	dmPhoneSkipped: "Хорошо, ответим здесь.",
	dmContactNotYours:
		"Пожалуйста, отправьте свой контакт кнопкой ниже: чужие номера мы не сохраняем.",
	dmUnsupported:
		"К сожалению, такое сообщение нельзя передать в поддержку. Отправьте текст, фото, файл или голосовое сообщение.",
	dmSlowDown:
		"Вы отправляете сообщения слишком часто. Подождите минуту: сообщения, отправленные за это время, не доставлены.",
	dmResolvedButton: "✅ Вопрос решён",
	dmClosed: "Обращение закрыто. Если понадобится помощь, просто напишите сюда снова.",
	dmRateAsk: "Как вы оцениваете работу поддержки?",
	dmRated: "Спасибо за оценку: {rating} из 5!",
	dmLinkWelcome:
		"Чат с сайта подключён к Telegram. Продолжайте здесь или на сайте — ответы операторов придут в оба места.",
	dmDigestTitle: "Переписка на данный момент:",
	dmDigestCustomer: "Вы",
	dmDigestSupport: "Поддержка",
	dmLinkInvalid:
		"Ссылка недействительна. Откройте чат на сайте и снова нажмите «Продолжить в Telegram».",
	dmLinkUsed: "Эта ссылка уже использована. Откройте чат на сайте, чтобы получить новую.",
	dmLinkExpired:
		"Срок действия ссылки истёк. Откройте чат на сайте и снова нажмите «Продолжить в Telegram».",
	dmAlreadyLinked: "Этот аккаунт Telegram уже подключён к вашему чату на сайте.",

	webClosed: "Обращение закрыто. Напишите сообщение, чтобы открыть его снова.",

	dmLinkConfirm:
		"Подключить этот аккаунт Telegram к чату на сайте?\n\nНачат на странице: {page}\nНачат: {time}\nСообщений: {count}\n\nЕсли нажать «Связать», эта переписка в Telegram, включая написанное здесь раньше, станет видна в том браузере, а ответы поддержки будут приходить в оба места. Нажимайте «Связать», только если тот чат на сайте ваш.",
	dmLinkButton: "Связать",
	dmLinkCancelButton: "Отмена",
	dmLinkCancelled: "Отменено: ничего не подключено, эта ссылка больше не действует.",
	dmLinkUnknownPage: "неизвестная страница",
	callbackLinkNotYours: "Это подтверждение предназначено другому аккаунту Telegram.",
	noticeUpdateFailed:
		"⚠️ Обновление Telegram не удалось обработать, оно пропущено после {attempts} попыток (обновление {updateId}, чат {chat}): {reason}",
	eraseConfirm:
		"Удалить данные этого клиента? Его веб-сессии, сообщения, файлы и личные данные будут удалены навсегда, обращение закрыто. Сообщения в этой теме останутся в Telegram.",
	eraseYesButton: "Удалить все данные",
	eraseNoButton: "Отмена",
	eraseCancelled: "Удаление отменено: ничего не удалено.",
	eraseRefused: "Удалять данные клиента могут только участники группы поддержки.",
	eraseScrubbing: "Удалено. Стираю из файлов базы данных…",
	eraseDone: "Удалено окончательно: из базы данных и из её файлов.",
	eraseScrubFailed:
		"Удалено из базы данных, но стереть из её файлов не удалось, копии могут остаться на диске (причина в журнале сервиса). Отправьте /erase в этой теме ещё раз, чтобы повторить.",
	erasedNotice:
		"🗑 Данные этого клиента удалены (веб-сессии, сообщения, файлы, личные данные). Если он напишет снова, он начнёт как новый клиент в новой теме.",
	eventERASED: "данные удалены",
	erasedName: "Удалённый клиент",
	cardAssignee: "Ответственный",
	cardTakeButton: "🙋 Взять",
	callbackTaken: "Обращение ваше.",
	callbackTakenBy: "Обращение уже взял(а) {operator}.",
	callbackAlreadyYours: "Это обращение уже ваше.",
	noticeAssigned: "👤 Ответственный: {operator}.",
	noticeUnassigned: "👤 {operator} больше не ведёт это обращение: ответственного нет.",
	noticeReopenedAssigned: "Клиент написал снова — обращение открыто заново. {operator}, оно ваше.",
	eventASSIGNED: "ответственный — {operator}",
	eventUNASSIGNED: "ответственный снят ({operator})",
	assignUsage:
		"Чтобы передать обращение коллеге, ответьте на его сообщение командой /assign или напишите /assign @username.",
	assignNotOperator:
		"/assign в ответ нужен на сообщение коллеги — не бота и не копию сообщения клиента.",
	assignUnknown:
		"Оператор {username} не известен. Известные операторы: {known}. Оператор становится известен, когда пишет в группе.",
	assignSame: "Обращение уже ведёт {operator}.",
	assignInTopic: "/assign и /unassign работают в теме клиента.",
	unassignNone: "У обращения нет ответственного.",
	cannedList: "Шаблоны ответов: {names}\nОтправить в теме клиента: /r <имя>.",
	cannedListEmpty:
		"Шаблонов пока нет. Ответьте на сообщение командой /r save <имя>, чтобы сохранить его текст.",
	cannedSaved: "Шаблон «{name}» сохранён ({locale}).",
	cannedDeleted: "Шаблон «{name}» удалён.",
	cannedUnknown: "Шаблона «{name}» нет.",
	cannedBadName:
		"«{name}» не годится как имя: a-z, 0-9, _ и -, до 32 символов (не «save» и не «del»).",
	cannedBadLocale: "Неизвестный язык «{locale}»: допустимы {locales}.",
	cannedNoReply: "Ответьте на сообщение, текст которого хотите сохранить: /r save <имя> [язык].",
	cannedNoText: "В этом сообщении нет текста.",
	cannedInGeneral:
		"Шаблоны отправляются в теме клиента. Здесь их можно посмотреть (/r), сохранить (/r save <имя>, ответом) и удалить (/r del <имя>).",
	cannedUsage:
		"Шаблоны: /r <имя> — отправить, /r — список, /r save <имя> [язык] (ответом) — сохранить текст сообщения, /r del <имя> — удалить.",
	cannedSentNotice: "📨 Отправлен шаблон «{name}»:\n{text}",
	noticeGroupLost:
		"⚠️ Бот больше не может писать в группу поддержки {group} ({reason}). Новые клиенты попадают в другие группы; то, что было в очереди для неё, ждёт как неотправленное. Когда бот вернётся в ту группу, отправьте /retry в её общей теме.",
	noticeGroupBack: "✅ Бот снова может писать в группу поддержки {group}.",
	moveDone:
		"➡️ Клиент перенесён в другую группу поддержки: {topicLink}. Переписка продолжается там.",
	moveArrived: "⬅️ Клиент перенесён сюда из другой группы поддержки; прежняя переписка: {topicLink}",
	moveUnknownGroup: "Неизвестная группа. /move принимает id одной из групп поддержки: {groups}",
	moveSameGroup: "Клиент уже в этой группе.",
};
