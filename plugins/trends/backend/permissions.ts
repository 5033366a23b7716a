export const READ = 'trends.read';
