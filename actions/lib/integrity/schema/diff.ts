import type { SchemaObject } from './objects.ts';

/**
 * Every difference between two databases' objects, one line each, naming the object, what differs and where:
 * `policy "own trades" on public.trades: missing in database-url`,
 * `column public.trades.quantity: type numeric(20,8) in database-url, numeric in compare-url`.
 */
export function differences(sides: [SchemaObject[], SchemaObject[]], labels: [string, string]): string[] {
  const [first, second] = sides.map((objects) => new Map(objects.map((object) => [object.key, object])));
  const keys = [...new Set([...first!.keys(), ...second!.keys()])].sort();
  const found: string[] = [];
  for (const key of keys) {
    const a = first!.get(key);
    const b = second!.get(key);
    if (!a || !b) {
      const [present, absent] = a ? labels : [labels[1], labels[0]];
      const object = (a ?? b)!;
      found.push(
        object.presence ? `${key}: ${object.presence} in ${present}, not in ${absent}` : `${key}: missing in ${absent}`,
      );
      continue;
    }
    for (const attribute of Object.keys({ ...a.attributes, ...b.attributes })) {
      const [x, y] = [a.attributes[attribute] ?? null, b.attributes[attribute] ?? null];
      if (x === y) continue;
      found.push(`${key}: ${describe(a, attribute, [x, y], labels)}`);
    }
  }
  return found;
}

function describe(object: SchemaObject, attribute: string, values: [string | null, string | null], labels: string[]) {
  if (object.long?.includes(attribute)) return `${attribute} differs`;
  if (object.hashed?.includes(attribute)) {
    const short = values.map((value) => (value ?? 'none').slice(0, 8));
    return `${attribute} differs (md5 ${short[0]}… in ${labels[0]}, ${short[1]}… in ${labels[1]})`;
  }
  const shown = values.map((value) => (value === null ? 'none' : value));
  return `${attribute} ${shown[0]} in ${labels[0]}, ${shown[1]} in ${labels[1]}`;
}
