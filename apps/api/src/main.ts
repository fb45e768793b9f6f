import './tracing';
import 'reflect-metadata';
import { exitWith } from '@tenantry/core';
import { startApi } from './bootstrap';

startApi().catch(exitWith);
