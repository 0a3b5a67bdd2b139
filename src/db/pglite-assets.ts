/**
 * PGlite's WebAssembly and file-system bundle, imported as files so `bun build --compile` embeds
 * them: the single binary has no node_modules to load them from at run time.
 */
import initdbWasmPath from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with {
	type: "file",
};
import fsBundlePath from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with {
	type: "file",
};
import pgliteWasmPath from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with {
	type: "file",
};

export async function pgliteAssets() {
	const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
		WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
		WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
	]);
	return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(fsBundlePath) };
}
