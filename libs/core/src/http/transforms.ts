/** class-transformer `@Transform(trim)`: surrounding whitespace never reaches validation or storage. */
export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
