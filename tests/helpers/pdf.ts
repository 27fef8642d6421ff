/** Small, real PDF files for tests, built by hand (one page per entry, Helvetica). */
export function makePdf(pages: string[]): Uint8Array {
  const escape = (s: string) => s.replace(/[\\()]/g, (c) => "\\" + c);
  const objs: string[] = ["<< /Type /Catalog /Pages 2 0 R >>", ""];
  const kids: string[] = [];
  const fontId = 3;
  objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (const text of pages) {
    const lines = text.split("\n");
    const content = lines.map((l, i) => `BT /F1 14 Tf 72 ${720 - i * 20} Td (${escape(l)}) Tj ET`).join("\n");
    objs.push(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    const contentId = objs.length;
    objs.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${contentId} 0 R /Resources << /Font << /F1 ${fontId} 0 R >> >> >>`,
    );
    kids.push(`${objs.length} 0 R`);
  }
  objs[1] = `<< /Type /Pages /Kids [${kids.join(" ")}] /Count ${pages.length} >>`;
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

export const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/**
 * A PDF whose page tree lists one page `times` times, the page drawing its one line of
 * `text` `draws` times over (a few KB that read as a huge document).
 */
export function makeRepeatedPagePdf(text: string, times: number, draws = 1): Uint8Array {
  let one = new TextDecoder().decode(makePdf([text]));
  if (draws > 1) {
    const m = /<< \/Length (\d+) >>\nstream\n([^\n]*)\nendstream/.exec(one)!;
    const content = Array(draws).fill(m[2]).join("\n");
    one = one.replace(m[0], `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  }
  // Objects: 1 catalog, 2 pages, 3 font, 4 content, 5 page.
  const kids = Array(times).fill("5 0 R").join(" ");
  const body = one.slice(0, one.indexOf("xref\n")).replace(/\/Kids \[5 0 R\] \/Count 1/, `/Kids [${kids}] /Count ${times}`);
  // Rebuild the cross-reference table for the new offsets.
  const offsets: number[] = [];
  const re = /(\d+) 0 obj\n/g;
  for (let m = re.exec(body); m; m = re.exec(body)) offsets[Number(m[1]) - 1] = m.index;
  let out = body;
  const xref = out.length;
  out += `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  out += `trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}
