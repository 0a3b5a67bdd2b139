// SQL migration files are imported as text (Bun's `with { type: "text" }`).
declare module "*.sql" {
	const text: string;
	export default text;
}

// Binary assets imported with `with { type: "file" }` resolve to a path (embedded when compiled).
declare module "*.wasm" {
	const path: string;
	export default path;
}
declare module "*.data" {
	const path: string;
	export default path;
}
