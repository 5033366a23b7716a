export function Logo({ size = 26 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <circle cx="16" cy="16" r="13" fill="none" stroke="currentColor" strokeOpacity=".35" strokeWidth="1.5" />
      <ellipse cx="16" cy="16" rx="13" ry="5.5" fill="none" stroke="currentColor" strokeWidth="1.5" transform="rotate(-28 16 16)" />
      <circle cx="16" cy="16" r="4" fill="currentColor" />
      <circle cx="27" cy="10.5" r="2.2" fill="#e69f00" />
    </svg>
  );
}
