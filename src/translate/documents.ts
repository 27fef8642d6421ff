/** Documents and PDFs live in src/documents/; this keeps the old import path working. */
export * from "../documents/resolver";
