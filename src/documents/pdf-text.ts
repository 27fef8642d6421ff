/** What the PDF reader and its callers share: the no-text note and how a PDF starts. */

export const NO_TEXT_LAYER =
  "[This PDF has no extractable text (it may consist of scanned images); its content could not be read.]";

const PDF_MAGIC = "%PDF-";

export const startsWithPdfMagic = (bytes: Uint8Array) =>
  bytes.length >= PDF_MAGIC.length && new TextDecoder().decode(bytes.subarray(0, 1024)).includes(PDF_MAGIC);
