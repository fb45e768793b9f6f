/** class-transformer helpers shared by this module's DTOs (not exported from the module). */
export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
