/**
 * The web door: one Elysia app made of one plugin per feature. `createApp` has no side effects;
 * the composition root (src/service.ts, its web part in src/service/web.ts) listens and wires the
 * event bus to the server.
 */
import { Elysia } from "elysia";
import type { EventBus } from "../core/events.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { SetupFlow } from "../setup/flow.ts";
import { jsonBodies } from "./body.ts";
import { botRoutes } from "./bot-routes.ts";
import { chatRoutes } from "./chat-routes.ts";
import { chatSocket, MAX_FRAME_BYTES, retarget } from "./chat-socket.ts";
import { cors } from "./cors.ts";
import { demoPageRoutes } from "./demo-page.ts";
import type { WebDeps } from "./deps.ts";
import { docsRoutes } from "./docs.ts";
import { entryRoutes } from "./entry-routes.ts";
import { errorHandling } from "./errors.ts";
import { encodeFrame, toFrame } from "./frames.ts";
import { healthRoutes } from "./health.ts";
import { mediaRoutes } from "./media-routes.ts";
import type { MediaSigner } from "./media-url.ts";
import { httpObservability, metricsRoutes } from "./metrics-routes.ts";
import { securityHeaders } from "./security-headers.ts";
import { setupRoutes } from "./setup-routes.ts";
import type { SocketRegistry } from "./socket-registry.ts";
import { ticketRoutes } from "./ticket-routes.ts";
import { uploadRoutes } from "./upload-routes.ts";
import { type TelegramWebhook, webhookRoutes } from "./webhook-routes.ts";
import { prepareWidget, type WidgetAsset, widgetRoutes } from "./widget-routes.ts";
import { customerTopic } from "./wire.ts";

/**
 * Webhook mode adds Telegram's entry point; in polling mode `/telegram/webhook` is unknown.
 * With `metrics`, every request is timed and `/metrics` is served when METRICS_TOKEN is set.
 */
export function createApp(
	deps: WebDeps & {
		/** The Telegram door's webhook when there is one (webhook mode), asked per request. */
		telegramWebhook?: () => TelegramWebhook | undefined;
		metrics?: Metrics;
		/** The first-run setup, while there is one. */
		setup?: () => SetupFlow | undefined;
	},
) {
	// Prepared on first request, once: a service that never serves the widget never builds it.
	let widget: Promise<WidgetAsset> | undefined;
	const widgetAsset = () => {
		widget ??= prepareWidget(deps.config, deps.version);
		return widget;
	};
	const app = new Elysia({ websocket: { maxPayloadLength: MAX_FRAME_BYTES, idleTimeout: 960 } })
		.use(httpObservability(deps.metrics, deps.log))
		.use(errorHandling(deps.log))
		.use(securityHeaders())
		.use(setupRoutes(deps.setup ?? (() => undefined)))
		.use(cors(deps))
		.use(jsonBodies())
		.use(healthRoutes(deps))
		.use(deps.metrics ? metricsRoutes(deps.metrics, deps.config.metricsToken) : new Elysia())
		.use(chatRoutes(deps))
		.use(ticketRoutes(deps))
		.use(uploadRoutes(deps))
		.use(mediaRoutes(deps))
		.use(botRoutes(deps))
		.use(entryRoutes(deps))
		.use(webhookRoutes(deps.telegramWebhook ?? (() => undefined)))
		.use(widgetRoutes(widgetAsset))
		.use(demoPageRoutes(deps, widgetAsset))
		.use(chatSocket(deps));
	return app.use(
		docsRoutes(
			async () => (await app.handle(new Request("http://internal/docs/json"))).json() as never,
		),
	);
}

export type App = ReturnType<typeof createApp>;

/**
 * Delivers bus events to this instance's sockets through Bun's native pub/sub: one serialisation
 * and one `publish` per event, however many tabs the customer has open. An operator's reply
 * published to at least one open socket here counts as delivered on the web.
 */
export function connectBusToServer(
	bus: EventBus,
	app: App,
	signer: MediaSigner,
	sockets: SocketRegistry,
	metrics?: Metrics,
): () => void {
	return bus.subscribe((customerId, event) => {
		if (event.type === "erased") {
			// The sessions are gone: the widget's sockets end as if their session never existed.
			for (const socket of sockets.move(customerId, customerId))
				socket.close(4001, "Session not found");
			return;
		}
		if (event.type === "moved") {
			for (const socket of sockets.move(customerId, event.to))
				retarget(socket, customerId, event.to);
			return;
		}
		const frame = toFrame(event, signer);
		if (!frame) return;
		const topic = customerTopic(customerId);
		app.server?.publish(topic, encodeFrame(frame));
		if (
			metrics &&
			event.type === "message" &&
			event.message.author === "support" &&
			(app.server?.subscriberCount(topic) ?? 0) > 0
		)
			metrics.operatorReplyDelivered("web");
	});
}
