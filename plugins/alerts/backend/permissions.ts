export const READ = 'alerts.read';
export const WRITE = 'alerts.write';
export const ADMIN = 'alerts.admin';
