// sessionStorage, where the browser allows it. A page framed by another site (the team page inside the CTF
// platform) may be denied storage altogether: the token then lives in memory only, for as long as the page.

export function load(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export function save(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    /* storage denied: memory only */
  }
}
