// The runtime's floor: parse the same JSON body and answer a small JSON, nothing else.
export default {
  async fetch(request) {
    const { file_name: fileName } = await request.json();
    return Response.json({ ok: true, file_name: fileName }, { headers: { "Cache-Control": "no-store" } });
  },
};
