/**
 * The failure type of a conversation batch the database refused for good (a document it will never
 * take). Shared by the persist activity, which throws it, and the workflow, which records it and goes on.
 */
export const persistRefusedType = 'persist_refused';
