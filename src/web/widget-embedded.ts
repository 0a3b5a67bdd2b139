/**
 * The widget as built into the binary. From source this is `undefined` and the service builds the
 * widget at startup; `scripts/build.ts` replaces this module's contents with the built script
 * while compiling, so the binary needs no source tree.
 */
export const embeddedWidget: string | undefined = undefined;
