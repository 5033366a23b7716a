export const READ = 'metrics.read';
export const WRITE = 'metrics.write';
