const body = JSON.stringify({ model: "grok-3-mini", messages: [], stream: true });
for (let k = 0; k < 3; k++) {
  const r = await fetch("http://127.0.0.1:18111/v1/chat/completions", { method: "POST", body });
  let n = 0, bytes = 0;
  for await (const c of r.body!) { n++; bytes += c.length; }
  console.log("reads", n, "bytes", bytes);
}
