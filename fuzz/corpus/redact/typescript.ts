export interface Credentials { apiKey?: string; token: string | null; password: string }
const { token } = await res.json();
const headers = { Authorization: `Bearer ${token}` };
export declare function hmac(key: Uint8Array, password: Uint8Array): Uint8Array;
client = OpenAI(api_key="sk-proj-Li2Y27PFcWIzFA0xJXzBBQjd9Y3hFDNMzcAehF9Rm91regBD")
