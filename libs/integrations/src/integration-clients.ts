import { Injectable } from '@nestjs/common';
import { AppConfig, INTEGRATION_PROVIDERS, IntegrationProvider } from '@tenantry/core';
import { IntegrationStateStore } from './integration-state';
import { CallStats, ResilientClient } from './resilient-client';

/** A page as every service answers it: our own list shape. */
export interface ServicePage<T> {
  data: T[];
  meta: { page: number; limit: number; total: number };
}

export type ServiceRecord = Record<string, unknown> & { updatedAt: string };

export interface OutgoingMessage {
  recipient: string;
  channel: 'email' | 'sms' | 'push';
  subject: string;
  body: string;
}

const SYNC_PAGE_SIZE = 100;
/** More pages than any real data set here has: a service that keeps answering full pages cannot loop a sync forever. */
const MAX_PAGES = 1000;

/** The three resilient clients, one per service, built once per process from the configuration. */
@Injectable()
export class IntegrationClients {
  private readonly clients: Map<IntegrationProvider, ResilientClient>;

  constructor(config: AppConfig, state: IntegrationStateStore) {
    this.clients = new Map(
      INTEGRATION_PROVIDERS.map((provider) => [provider, new ResilientClient(provider, config.integrations[provider], config.breakerHalfOpenMs, state)]),
    );
  }

  of(provider: IntegrationProvider): ResilientClient {
    return this.clients.get(provider)!;
  }

  all(): ResilientClient[] {
    return [...this.clients.values()];
  }

  /** Every record of one collection, page by page; fails as a whole if any page fails (a partial list removes nothing). */
  async listAll(provider: IntegrationProvider, orgSlug: string, collection: string, stats: CallStats): Promise<ServiceRecord[]> {
    const records: ServiceRecord[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const answer = await this.of(provider).request<ServicePage<ServiceRecord>>(
        'GET',
        `/orgs/${encodeURIComponent(orgSlug)}/${collection}?page=${page}&limit=${SYNC_PAGE_SIZE}`,
        undefined,
        stats,
      );
      records.push(...answer.data);
      if (answer.data.length < SYNC_PAGE_SIZE || records.length >= answer.meta.total) return records;
    }
    throw new Error(`${provider} kept answering full pages of ${collection} past page ${MAX_PAGES}`);
  }

  /** One record by its id, or null when the service says it has none (404). */
  async fetchOne(provider: IntegrationProvider, orgSlug: string, collection: string, id: string): Promise<ServiceRecord | null> {
    try {
      return await this.of(provider).request<ServiceRecord>('GET', `/orgs/${encodeURIComponent(orgSlug)}/${collection}/${encodeURIComponent(id)}`);
    } catch (error) {
      if ((error as { status?: number }).status === 404) return null;
      throw error;
    }
  }

  sendMessage(orgSlug: string, message: OutgoingMessage): Promise<ServiceRecord> {
    return this.of('communication-service').request<ServiceRecord>('POST', `/orgs/${encodeURIComponent(orgSlug)}/messages`, message);
  }
}
