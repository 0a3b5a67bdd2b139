/**
 * Encrypts small secrets at rest (the bot token stored by the setup page) with AES-256-GCM via
 * WebCrypto, under a key derived from APP_SECRET. Format: `v1.<iv base64url>.<ciphertext>`.
 */
const encoder = new TextEncoder();

async function keyFrom(appSecret: string): Promise<CryptoKey> {
	const material = await crypto.subtle.digest(
		"SHA-256",
		encoder.encode(`topicdesk settings v1\0${appSecret}`),
	);
	return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function sealSecret(appSecret: string, plain: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const sealed = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv },
		await keyFrom(appSecret),
		encoder.encode(plain),
	);
	return `v1.${Buffer.from(iv).toString("base64url")}.${Buffer.from(sealed).toString("base64url")}`;
}

/** The plain text, or undefined when the box was sealed under another APP_SECRET or is damaged. */
export async function openSecret(appSecret: string, box: string): Promise<string | undefined> {
	const [version, iv, data] = box.split(".");
	if (version !== "v1" || !iv || !data) return undefined;
	try {
		const plain = await crypto.subtle.decrypt(
			{ name: "AES-GCM", iv: Buffer.from(iv, "base64url") },
			await keyFrom(appSecret),
			Buffer.from(data, "base64url"),
		);
		return new TextDecoder().decode(plain);
	} catch {
		return undefined;
	}
}
