/**
 * The widget as built into the binary. From source this is `undefined` and the service builds the
 * widget at startup; `scripts/build.ts` replaces this module's contents with the built scripts
 * while compiling, so the binary needs no source tree.
 */
import type { WidgetBundle } from "./widget-build.ts";

export const embeddedWidget: WidgetBundle | undefined = undefined;
