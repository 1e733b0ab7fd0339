import type { paths } from './api-types';

// Every shape the console shows comes from the API's OpenAPI document.
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

export type CallbackView = Json<'/callbacks', 'get'>['items'][number];
export type RowFacts = Json<'/callbacks/facts', 'get'>['items'][number];
export type Detail = Json<'/callbacks/{id}', 'get'>;
export type Facts = Json<'/callbacks/{id}/facts', 'get'>;
export type MyCallbacks = Json<'/me/callbacks', 'get'>;
export type Ringing = Json<'/me/ringing', 'get'>['items'][number];
export type Dashboard = Json<'/dashboard', 'get'>;
export type BulkResult = Json<'/callbacks/bulk', 'post'>;
export type ListQuery = NonNullable<paths['/callbacks']['get']['parameters']['query']>;
