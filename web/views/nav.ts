/**
 * The sidebar, computed from who is looking: Mail for everyone; Options for full sessions (the main
 * password, not restricted); Manage for group administrators in full sessions. The Manage engineer adds
 * their screens to `manageItems` (issue 7: "Buy SMS Credits" only once SMS logins are allowed).
 */
import type { Viewer } from '../env.js';
import { canUseOptions } from '../middleware/access.js';

export interface NavItem {
  href: string;
  label: string;
  children?: NavItem[];
}

export const optionsItems: NavItem[] = [
  { href: '/options/alt-logins', label: 'Alternative Logins' },
  { href: '/options/personalities', label: 'Personalities' },
  { href: '/options/password', label: 'Password' },
  { href: '/options/security', label: 'Security' },
];

/**
 * Manage → … for an administrator of `group`. The URLs carry the group id (every Manage route checks the
 * viewer administers that very group); no href is a prefix of another, so exactly one item is current.
 * "Buy SMS Credits" appears only once "Allow SMS two-factor logins" is ticked (issue 7).
 */
export function manageItems(group: NonNullable<Viewer['group']>): NavItem[] {
  const base = `/manage/${group.id}`;
  const items: NavItem[] = [
    { href: `${base}/overview`, label: 'Business/Family' },
    { href: `${base}/members`, label: 'Members' },
    { href: `${base}/preferences`, label: 'Business/Family Preferences' },
  ];
  if (group.allowSms) items.push({ href: `${base}/buy`, label: 'Buy SMS Credits' });
  items.push({ href: `${base}/history`, label: 'SMS credit history' });
  return items;
}

export function buildNav(viewer: Viewer): NavItem[] {
  // Until an initial password is replaced, every other page redirects to "Choose your password".
  if (viewer.session.mustChoosePassword) return [];
  const nav: NavItem[] = [{ href: '/mail', label: 'Mail' }];
  if (canUseOptions(viewer.session)) {
    nav.push({ href: '/options', label: 'Options', children: optionsItems });
    if (viewer.group?.isAdmin) nav.push({ href: '/manage', label: 'Manage', children: manageItems(viewer.group) });
  }
  return nav;
}
