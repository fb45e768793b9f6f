import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { isUUID } from 'class-validator';
import { CommonError } from '../errors/domain-error';

/** `:id` path parameters: anything but a UUID is a 400 problem naming the parameter. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUUID(value)) throw CommonError.validation([{ field: 'id', message: 'id must be a UUID' }]);
    return value;
  }
}

/** Documents a UUID path parameter (the UuidPipe's rule), so clients and the hostile-input walk know its format. */
export const ApiUuidParam = (name = 'id') => ApiParam({ name, type: String, format: 'uuid' });
