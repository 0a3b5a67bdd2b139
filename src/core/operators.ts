/**
 * The operators the desk knows: people of the support group seen answering, taking or being
 * given a ticket, with the name and username Telegram showed last.
 */
import { asc, eq, sql } from "drizzle-orm";
import { customers, operators } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

export interface Operator {
	telegramUserId: number;
	name: string;
	username: string | null;
}

/** How texts name an operator: `@username`, which Telegram turns into a mention, else the name. */
export function operatorLabel(operator: Pick<Operator, "name" | "username">): string {
	return operator.username ? `@${operator.username}` : operator.name;
}

/** Records (or refreshes) an operator as Telegram shows them now. */
export async function rememberOperator(work: Work, operator: Operator): Promise<void> {
	await work.tx
		.insert(operators)
		.values(operator)
		.onConflictDoUpdate({
			target: operators.telegramUserId,
			set: { name: operator.name, username: operator.username },
		});
}

export async function operatorById(work: Work, telegramUserId: number): Promise<Operator | null> {
	const [row] = await work.tx
		.select()
		.from(operators)
		.where(eq(operators.telegramUserId, telegramUserId));
	return row ?? null;
}

/** A known operator by username, as people type it (`@Olga` finds `olga`). */
export async function operatorByUsername(work: Work, username: string): Promise<Operator | null> {
	const [row] = await work.tx
		.select()
		.from(operators)
		.where(sql`lower(${operators.username}) = ${username.replace(/^@/, "").toLowerCase()}`)
		.limit(1);
	return row ?? null;
}

/** Known operators with a username, for the answer to a username nobody has. */
export async function knownUsernames(work: Work, limit = 30): Promise<string[]> {
	const rows = await work.tx
		.select({ username: operators.username })
		.from(operators)
		.where(sql`${operators.username} is not null`)
		.orderBy(asc(operators.username))
		.limit(limit);
	return rows.map((row) => `@${row.username}`);
}

/** The ticket's assignee, if it has one. */
export async function assigneeOf(work: Work, customerId: string): Promise<Operator | null> {
	const [row] = await work.tx
		.select({
			telegramUserId: operators.telegramUserId,
			name: operators.name,
			username: operators.username,
		})
		.from(customers)
		.innerJoin(operators, eq(operators.telegramUserId, customers.assigneeId))
		.where(eq(customers.id, customerId));
	return row ?? null;
}
