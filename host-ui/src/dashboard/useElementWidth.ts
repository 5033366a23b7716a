import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * The content width of an element, kept current by a ResizeObserver, for react-grid-layout's
 * `width`. A callback ref, so the element is measured whenever it appears: the grid library's
 * own `useContainerWidth` observes only the element present at its first effect, and a page
 * that shows "Loading…" first and its grid's container later kept the library's 1,280-px guess
 * (a named dashboard's widgets stopped short of the right edge on wider screens).
 * `mounted`: measured at least once.
 */
export function useElementWidth(debounceMs = 50): { ref: (node: HTMLElement | null) => void; width: number; mounted: boolean } {
  const [width, setWidth] = useState<number | null>(null);
  const observer = useRef<ResizeObserver | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const ref = useCallback((node: HTMLElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    clearTimeout(timer.current);
    if (!node) return;
    const style = getComputedStyle(node);
    setWidth(Math.round(node.clientWidth - parseFloat(style.paddingLeft || '0') - parseFloat(style.paddingRight || '0')));
    if (typeof ResizeObserver === 'undefined') return;
    observer.current = new ResizeObserver(([entry]) => {
      if (!entry) return;
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setWidth(Math.round(entry.contentRect.width)), debounceMs);
    });
    observer.current.observe(node);
  }, [debounceMs]);
  useEffect(() => () => {
    observer.current?.disconnect();
    clearTimeout(timer.current);
  }, []);
  return { ref, width: width ?? 0, mounted: width !== null };
}
