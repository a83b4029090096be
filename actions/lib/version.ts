/** The Backstop version recorded in every manifest (kept in step with package.json by a unit test). */
export const BACKSTOP_VERSION = '0.1.0';
