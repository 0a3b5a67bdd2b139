/**
 * Test-run setup, preloaded by bunfig.toml. Without DATABASE_URL the suite runs on the embedded
 * database: one PGlite booted here for the whole run (booting takes seconds), shared by the test
 * files, which run one after another and each start from emptied tables. After the last test,
 * the temporary directories the tests made are removed.
 */
import { afterAll } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { removeTempDirs } from "./process.ts";

afterAll(removeTempDirs);

declare global {
	var __topicdeskPglite: Promise<PGlite> | undefined;
}

if (!process.env.DATABASE_URL && !globalThis.__topicdeskPglite) {
	globalThis.__topicdeskPglite = PGlite.create();
}
