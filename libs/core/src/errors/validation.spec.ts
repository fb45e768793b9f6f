import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { nullFieldErrors } from './validation';

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

describe('nullFieldErrors', () => {
  it('refuses null for every property not declared nullable, nested DTOs and array items included', () => {
    const body = { title: null, externalId: null, child: { name: null, note: null }, lazy: { name: null }, children: [{ name: 'x' }, null, { name: null }] };
    expect(nullFieldErrors(Parent, body).map((error) => error.field)).toEqual(['title', 'child.name', 'lazy.name', 'children.1', 'children.2.name']);
  });

  it('refuses null for a property the DTO does not document at all', () => {
    expect(nullFieldErrors(Parent, { unknown: null })).toEqual([{ field: 'unknown', message: 'unknown must not be null' }]);
  });

  it('has nothing to say about a body without nulls, or one that is not an object', () => {
    expect(nullFieldErrors(Parent, { title: 'a', child: { name: 'b' }, children: [] })).toEqual([]);
    expect(nullFieldErrors(Parent, null)).toEqual([]);
    expect(nullFieldErrors(Parent, [null])).toEqual([]);
  });
});
