import { Injectable, PipeTransform } from '@nestjs/common';
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
