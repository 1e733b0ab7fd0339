// Free text people type (notes, reasons, transcripts) is stored as it will be shown: NUL removed
// (C strings, Asterisk and many tools stop at it) and lone surrogates, which no UTF-8 can hold,
// replaced by U+FFFD. Normalised at the API boundary, so every reader sees the same text.
export function cleanText(s: string): string {
  return s.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
