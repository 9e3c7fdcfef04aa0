/**
 * The request's own URL with page[cursor] set to the next cursor (and no
 * page[number]), or null on the last page. Relative, like the request.
 */
export function nextPageLink(requestUrl: string, cursor: string | null): string | null {
  if (cursor === null) return null;
  const url = new URL(requestUrl, 'http://localhost');
  url.searchParams.delete('page[number]');
  url.searchParams.set('page[cursor]', cursor);
  return `${url.pathname}?${url.searchParams.toString()}`;
}
