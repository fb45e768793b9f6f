import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { shapeErrors } from './validation';

class Child {
  @ApiProperty() name: string;
  @ApiPropertyOptional({ type: String, nullable: true }) note?: string | null;
}

class Parent {
  @ApiPropertyOptional() title?: string;
  @ApiProperty({ type: String, nullable: true }) externalId: string | null;
  @ApiProperty({ type: Child }) child: Child;
  @ApiProperty({ type: () => Child }) lazy: Child;
  @ApiProperty({ type: [Child] }) children: Child[];
}

describe('shapeErrors', () => {
  it('refuses null for every property not declared nullable, in nested DTOs and array items too', () => {
    const body = { title: null, externalId: null, child: { name: null, note: null }, lazy: { name: null }, children: [{ name: 'x' }, null, { name: null }] };
    expect(shapeErrors(Parent, body).map((error) => error.field)).toEqual(['title', 'child.name', 'lazy.name', 'children.2.name']);
  });

  it('wants an object where the DTO nests one, and an array where it nests a list', () => {
    expect(shapeErrors(Parent, { child: [], lazy: 'x', children: {} })).toEqual([
      { field: 'child', message: 'child must be an object' },
      { field: 'lazy', message: 'lazy must be an object' },
      { field: 'children', message: 'children must be an array' },
    ]);
  });

  it('refuses null for a property the DTO does not document at all', () => {
    expect(shapeErrors(Parent, { unknown: null })).toEqual([{ field: 'unknown', message: 'unknown must not be null' }]);
  });

  it('has nothing to say about a body of the declared shape without nulls', () => {
    expect(shapeErrors(Parent, { title: 'a', child: { name: 'b' }, children: [] })).toEqual([]);
  });
});
