/** Permission names: everyone reads what they may see; Admins set budgets and KPI targets. */
export const READ = 'executive.read';
export const ADMIN = 'executive.admin';
