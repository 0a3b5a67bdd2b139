/**
 * English texts: the reference catalogue. Every user-visible string lives here (and in ru.ts with
 * the same keys); the config file may override any key per locale. `{name}` is filled in.
 */
export const en = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	botFallbackName: "Support",

	statusNEW: "🆕 New",
	statusIN_PROGRESS: "🛠 In progress",
	statusWAITING_CLIENT: "⏳ Waiting for the customer",
	statusCLOSED: "✅ Closed",

	noticeStatus: "Status changed: {status}",
	noticeClosed: "The ticket is closed.",
	noticeReopened: "The customer wrote again: the ticket is reopened.",
	noticeRated: "The customer rated the support {rating}/5.",
	noticeFeedback: "Customer feedback: {feedback}",
	noticeLinked: "The customer connected Telegram ({who}): both channels now lead here.",
	noticeMergedInto: "This customer continues in another topic: {topicLink}",
	noticeMergedFrom: "The customer's earlier conversation was merged into this one.",
	noticeTopicRecreated:
		"The previous topic was deleted or closed; the conversation continues here.",
	noticeBlocked: "⚠️ Not delivered to Telegram: the customer blocked the bot.",
	noticeDmFailed: "⚠️ Not delivered to Telegram: {reason}",
	noticeSlaReminder: "⏰ The customer has been waiting {waited} for an answer. {admins}",
	noticeSlaBreach:
		"🚨 SLA breached: the customer has been waiting {waited} for an answer. {admins}",
	adminSlaBreach: "🚨 A customer has been waiting {waited} for an answer: {topicLink}",
	dmWaitingReminder:
		"We are waiting for your reply. If everything is solved, just press “✅ Resolved”.",
	webWaitingReminder:
		"We are waiting for your reply. If everything is solved, you can close the conversation.",
	noticeDead:
		"⚠️ Could not be delivered to Telegram: {reason}. Send /retry in this topic to try again.",
	retryDone: "Queued again: {count}.",
	noticePhone: "The customer shared a phone number: {phone}",

	cardTitle: "Support request",
	cardName: "Name",
	cardUsername: "Username",
	cardPhone: "Phone",
	cardChannels: "Channels",
	cardSource: "Source page",
	cardCity: "City",
	cardCreated: "Created",
	cardStatus: "Status",
	cardNone: "—",
	cardVerified: "Verified by the site",
	cardEmail: "Email",
	channelWeb: "web",
	channelTelegram: "Telegram",

	callbackStatusSet: "Status: {status}",
	callbackStatusSame: "The status is already {status}.",
	callbackNotAllowed: "This status is only set automatically.",
	callbackThanks: "Thank you!",
	callbackNothingToRate:
		"There is nothing to rate right now: it was already rated, or the request is open again.",

	historyTitle: "Ticket history (last {count} events, {zone}):",
	historyEmpty: "No events yet.",
	historyLine: "{time} · {event} · {actor}",
	eventOPENED: "opened",
	eventREOPENED: "reopened",
	eventSTATUS_CHANGED: "status → {status}",
	eventCLOSED: "closed",
	eventPHONE_UPDATED: "phone updated",
	eventLINKED: "Telegram linked",
	eventMOVED: "moved to support group {group}",
	eventIDENTIFIED: "signed in on the site",
	awayMessage:
		"Thanks for your message! We're away right now and back {when}. We'll answer as soon as we're back.",
	noticeAway: "🌙 Outside business hours: the customer was told we're back {when}.",
	eventAWAY: "away message sent",
	eventRATED: "rated {rating}/5",
	eventFEEDBACK: "feedback",
	actorCustomer: "customer",
	actorOperator: "operator",
	actorSystem: "system",
	statsTitle: "📊 The desk now",
	statsTitleGroup: "📊 This support group now",
	statsNow: "Tickets: {counts}",
	statsNew: "New tickets: {today} today, {week} in 7 days",
	statsFirstResponse:
		"First reply (median, 7 days, business hours): {median} over {answered} tickets",
	statsFirstResponseNone: "First reply (7 days): no ticket answered yet",
	statsCsat: "Satisfaction (30 days): {average} / 5 from {count} ratings",
	statsCsatNone: "Satisfaction (30 days): no ratings yet",
	statsOperators: "Operators (7 days):",
	statsOperator: "• {name}: {replies} replies, {closes} closed",
	statsNoOperators: "Operators (7 days): no replies yet",
	helpText:
		"Commands in a customer topic:\n/history — the ticket's events\n/help — this list\n/retry — send again what could not be delivered\n/stats — how the desk is doing, or this group with several groups (also in the General topic)\n/assign — give the ticket to a colleague (as a reply to their message, or /assign @username)\n/unassign — nobody has the ticket\n/move <group id> — move the customer to another support group\n/erase — delete everything about this customer (asks to confirm)\n/r <name> — send a canned reply; /r lists them, /r save <name> [locale] (as a reply) saves one, /r del <name> deletes one\n\nMessages starting with // or #internal stay in the topic and are never sent to the customer. Use the card's buttons to change the status or take the ticket.",

	dmGreeting: "Hello! Write your question here and our support team will answer in this chat.",
	dmTicketCreated: "Thank you! Your request is registered; an operator will answer here soon.",
	dmAskPhone: "If you like, share your phone number so we can call you back. This is optional.",
	dmSharePhoneButton: "📱 Share my phone number",
	dmSkipButton: "Skip",
	dmPhoneSaved: "Thank you, we saved your number.",
	dmPhoneSkipped: "All right, we will answer here.",
	dmContactNotYours:
		"Please share your own contact with the button below: we do not store other people's numbers.",
	dmUnsupported:
		"Sorry, this kind of message cannot be passed to support. Please send text, a photo, a file or a voice message.",
	dmSlowDown:
		"You are sending messages very fast. Please wait a minute: messages sent meanwhile were not delivered.",
	dmResolvedButton: "✅ Resolved",
	dmClosed: "Your request is closed. Just write here again if you need anything else.",
	dmRateAsk: "How would you rate our support?",
	dmRated: "Thank you for your rating: {rating}/5!",
	dmLinkWelcome:
		"Your web chat is now connected to Telegram. Continue here or on the website: operators' answers arrive in both places.",
	dmDigestTitle: "The conversation so far:",
	dmDigestCustomer: "You",
	dmDigestSupport: "Support",
	dmLinkInvalid:
		"This link is not valid. Open the chat on the website and press “Continue in Telegram” again.",
	dmLinkUsed: "This link was already used. Open the chat on the website to get a new one.",
	dmLinkExpired:
		"This link has expired. Open the chat on the website and press “Continue in Telegram” again.",
	dmAlreadyLinked: "This Telegram account is already connected to your web chat.",

	webClosed: "The conversation is closed. Write a message to reopen it.",

	dmLinkConfirm:
		"Connect this Telegram account to a web chat?\n\nStarted on: {page}\nStarted: {time}\nMessages so far: {count}\n\nIf you press “Link”, this Telegram conversation, including what you wrote here before, becomes visible in that browser, and support answers arrive in both places. Press “Link” only if that web chat is yours.",
	dmLinkButton: "Link",
	dmLinkCancelButton: "Cancel",
	dmLinkCancelled: "Cancelled: nothing was connected, and this link no longer works.",
	dmLinkUnknownPage: "an unknown page",
	callbackLinkNotYours: "This confirmation belongs to another Telegram account.",
	noticeUpdateFailed:
		"⚠️ A Telegram update could not be processed and was skipped after {attempts} attempts (update {updateId}, chat {chat}): {reason}",
	eraseConfirm:
		"Erase this customer's data? Their web sessions, messages, files and identity are deleted for good and the ticket is closed. The messages in this topic stay in Telegram.",
	eraseYesButton: "Erase all data",
	eraseNoButton: "Cancel",
	eraseCancelled: "Erasure cancelled: nothing was deleted.",
	eraseRefused: "Only members of the support group can erase a customer's data.",
	eraseScrubbing: "Deleted. Clearing it from the database's files…",
	eraseDone: "Erased for good: deleted, and cleared from the database's files.",
	eraseScrubFailed:
		"Deleted from the database, but clearing it from the database's files failed, so copies may remain on disk (the service's log says why). Send /erase in this topic again to retry.",
	erasedNotice:
		"🗑 This customer's data was erased (web sessions, messages, files, identity). If they write again, they start as a new customer in a new topic.",
	eventERASED: "data erased",
	erasedName: "Erased customer",
	cardAssignee: "Assignee",
	cardTakeButton: "🙋 Take",
	callbackTaken: "The ticket is yours.",
	callbackTakenBy: "{operator} already has this ticket.",
	callbackAlreadyYours: "This ticket is already yours.",
	noticeAssigned: "👤 Assigned to {operator}.",
	noticeUnassigned: "👤 {operator} no longer has this ticket: nobody is assigned.",
	noticeReopenedAssigned:
		"The customer wrote again: the ticket is reopened. {operator}, it is yours.",
	eventASSIGNED: "assigned to {operator}",
	eventUNASSIGNED: "unassigned ({operator})",
	assignUsage:
		"To give this ticket to a colleague, reply to one of their messages with /assign, or write /assign @username.",
	assignNotOperator:
		"/assign as a reply needs a colleague's message: not the bot's, not a customer's copy.",
	assignUnknown:
		"Nobody known as {username}. Known operators: {known}. An operator becomes known by writing in the group.",
	assignSame: "{operator} already has this ticket.",
	assignInTopic: "/assign and /unassign work in a customer's topic.",
	unassignNone: "This ticket has no assignee.",
	cannedList: "Canned replies: {names}\nSend one in a customer's topic with /r <name>.",
	cannedListEmpty:
		"No canned replies yet. Reply to a message with /r save <name> to save its text.",
	cannedSaved: "Saved canned reply “{name}” ({locale}).",
	cannedDeleted: "Deleted canned reply “{name}”.",
	cannedUnknown: "There is no canned reply “{name}”.",
	cannedBadName:
		"“{name}” cannot be a name: use a-z, 0-9, _ and -, up to 32 characters (not “save” or “del”).",
	cannedBadLocale: "Unknown locale “{locale}”: use one of {locales}.",
	cannedNoReply: "Reply to the message whose text you want to save: /r save <name> [locale].",
	cannedNoText: "That message has no text to save.",
	cannedInGeneral:
		"Canned replies are sent in a customer's topic. Here you can list (/r), save (/r save <name>, as a reply) and delete (/r del <name>) them.",
	cannedUsage:
		"Canned replies: /r <name> sends one, /r lists them, /r save <name> [locale] (as a reply) saves the message's text, /r del <name> deletes one.",
	cannedSentNotice: "📨 Canned reply “{name}” sent:\n{text}",
	noticeGroupLost:
		"⚠️ The bot can no longer write to the support group {group} ({reason}). New customers go to the other groups; what was queued for it waits as failed items. Once the bot is back in that group, send /retry in its General topic.",
	noticeGroupBack: "✅ The bot can write to the support group {group} again.",
	moveDone:
		"➡️ This customer moved to another support group: {topicLink}. Their messages continue there.",
	moveArrived:
		"⬅️ This customer moved here from another support group; earlier conversation: {topicLink}",
	moveUnknownGroup: "Unknown group. /move takes the id of one of the support groups: {groups}",
	moveSameGroup: "This customer is already in that group.",
} as const;

export type TextKey = keyof typeof en;
