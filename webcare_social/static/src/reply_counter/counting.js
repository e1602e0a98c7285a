/**
 * Count a reply's length the way each network does: the browser twin of
 * webcare_social/tools/counting.py (keep the two in step).
 *
 * X (twitter-text config v3): NFC; an http(s) URL weighs 23; an emoji
 * grapheme (ZWJ sequence, skin tone, flag, keycap, variation selector) weighs
 * 2 as a whole; other code points weigh 1 in 0-4351, 8192-8205, 8208-8223,
 * 8242-8247 and 2 elsewhere; limit 280.
 * Mastodon: graphemes, a URL counts 23, "@user@instance" counts as "@user";
 * limit 500. Bluesky: graphemes, URLs in full; 300 graphemes, 3000 bytes.
 * Private messages: 10,000 on X, 1,000 graphemes (10,000 bytes) on Bluesky.
 */

export const URL_LENGTH = 23;
export const LIMITS = { x: 280, mastodon: 500, bluesky: 300 };
export const BYTE_LIMITS = { bluesky: 3000 };
export const PRIVATE_LIMITS = { x: 10000, bluesky: 1000 };
export const PRIVATE_BYTE_LIMITS = { bluesky: 10000 };

const URL_RE = /(?<![A-Za-z0-9_@$#/])https?:\/\/[^\s<>"']+/giu;
const URL_TRAILING = ".,;:!?)]}'\"\u2026";
const REMOTE_MENTION_RE =
    /(?<![=/A-Za-z0-9_])@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]+[A-Za-z0-9_]+)?)@[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*/g;
const LIGHT_RANGES = [
    [0, 4351],
    [8192, 8205],
    [8208, 8223],
    [8242, 8247],
];
const SCALE = 100;
const DEFAULT_WEIGHT = 200;
const EMOJI_WEIGHT = 200;
const PICTOGRAPHIC_RE = /^\p{Extended_Pictographic}/u;
const REGIONAL_INDICATOR_RE = /^\p{Regional_Indicator}/u;
const KEYCAP_BASES = "#*0123456789";
const EMOJI_PART_RE = /[\p{Extended_Pictographic}\p{Regional_Indicator}\p{Emoji_Modifier}]/u;

let segmenter = null;

/** The network's length limit of a post (or private message), or null. */
export function limit(network, isPrivate = false) {
    if (isPrivate && network in PRIVATE_LIMITS) {
        return PRIVATE_LIMITS[network];
    }
    return LIMITS[network] ?? null;
}

/** The network's limit in UTF-8 bytes, or null. */
export function byteLimit(network, isPrivate = false) {
    if (isPrivate && network in PRIVATE_BYTE_LIMITS) {
        return PRIVATE_BYTE_LIMITS[network];
    }
    return BYTE_LIMITS[network] ?? null;
}

/** User-perceived characters (extended grapheme clusters) of a text. */
export function graphemes(text) {
    segmenter ||= new Intl.Segmenter(undefined, { granularity: "grapheme" });
    return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** The length of `text` as `network` counts it. */
export function count(text, network) {
    text = (text || "").normalize("NFC");
    if (network === "x") {
        return countX(text);
    }
    if (network === "mastodon") {
        text = text.replace(REMOTE_MENTION_RE, "@$1");
        return splitUrls(text).reduce(
            (sum, [part, isUrl]) => sum + (isUrl ? URL_LENGTH : graphemes(part).length),
            0
        );
    }
    return graphemes(text).length;
}

/** Number of UTF-8 bytes of the NFC text. */
export function byteCount(text) {
    return new TextEncoder().encode((text || "").normalize("NFC")).length;
}

/** Whether `text` is within the network's limits (always when unknown). */
export function fits(text, network, isPrivate = false) {
    const most = limit(network, isPrivate);
    if (most !== null && count(text, network) > most) {
        return false;
    }
    const mostBytes = byteLimit(network, isPrivate);
    return mostBytes === null || byteCount(text) <= mostBytes;
}

function countX(text) {
    let weight = 0;
    for (const [part, isUrl] of splitUrls(text)) {
        if (isUrl) {
            weight += URL_LENGTH * SCALE;
            continue;
        }
        for (const cluster of graphemes(part)) {
            if (isEmoji(cluster)) {
                weight += EMOJI_WEIGHT;
            } else {
                for (const char of cluster) {
                    weight += codePointWeight(char.codePointAt(0));
                }
            }
        }
    }
    return Math.floor(weight / SCALE);
}

function codePointWeight(code) {
    return LIGHT_RANGES.some(([start, end]) => start <= code && code <= end)
        ? SCALE
        : DEFAULT_WEIGHT;
}

/**
 * Whether a grapheme is one emoji (X weighs it 2 as a whole): a pictograph
 * (© and ® only with U+FE0F), a flag or a keycap.
 */
export function isEmoji(cluster) {
    const codes = Array.from(cluster, (c) => c.codePointAt(0));
    if (PICTOGRAPHIC_RE.test(cluster)) {
        return codePointWeight(codes[0]) === DEFAULT_WEIGHT || codes.includes(0xfe0f);
    }
    if (REGIONAL_INDICATOR_RE.test(cluster)) {
        return codes.length === 2;
    }
    return KEYCAP_BASES.includes(cluster[0]) && codes.includes(0x20e3);
}

/** [part, isUrl] pieces of `text`, in order. */
function splitUrls(text) {
    const pieces = [];
    let last = 0;
    for (const [start, end] of urlSpans(text)) {
        if (start > last) {
            pieces.push([text.slice(last, start), false]);
        }
        pieces.push([text.slice(start, end), true]);
        last = end;
    }
    if (last < text.length) {
        pieces.push([text.slice(last), false]);
    }
    return pieces;
}

function urlSpans(text) {
    const spans = [];
    for (const match of text.matchAll(URL_RE)) {
        const url = stripTrailing(cutAtEmoji(match[0]));
        const host = url.split("://")[1].split(/[/?#]/)[0];
        if (host.replace(/^\.+|\.+$/g, "").includes(".") && !host.endsWith(".")) {
            spans.push([match.index, match.index + url.length]);
        }
    }
    return spans;
}

/** An emoji right after a link is not part of it. */
function cutAtEmoji(url) {
    const cut = url.search(EMOJI_PART_RE);
    return cut >= 0 ? url.slice(0, cut) : url;
}

function stripTrailing(url) {
    while (url && URL_TRAILING.includes(url.at(-1))) {
        if (url.at(-1) === ")" && countOf(url, "(") >= countOf(url, ")")) {
            break;
        }
        url = url.slice(0, -1);
    }
    return url;
}

function countOf(text, char) {
    return text.split(char).length - 1;
}
