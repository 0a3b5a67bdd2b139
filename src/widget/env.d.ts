/** `import css from "./styles.css" with { type: "text" }`: the stylesheet as a string. */
declare module "*.css" {
	const css: string;
	export default css;
}
