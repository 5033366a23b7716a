/** Permission names: everyone reads aggregates, Admins and Managers define cohorts. */
export const READ = 'cohorts.read';
export const WRITE = 'cohorts.write';
