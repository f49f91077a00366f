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
  { href: '/options/security', label: 'Security' },
];

/** Manage → … for an administrator of `group`. */
export function manageItems(group: NonNullable<Viewer['group']>): NavItem[] {
  const items: NavItem[] = [
    { href: '/manage', label: group.kind === 'business' ? 'Business' : 'Family' },
    { href: '/manage/members', label: 'Members' },
    { href: '/manage/preferences', label: `${group.kind === 'business' ? 'Business' : 'Family'} Preferences` },
  ];
  if (group.allowSms) {
    items.push({ href: '/manage/credits/buy', label: 'Buy SMS Credits' }, { href: '/manage/credits', label: 'SMS credit history' });
  }
  return items;
}

export function buildNav(viewer: Viewer): NavItem[] {
  const nav: NavItem[] = [{ href: '/mail', label: 'Mail' }];
  if (canUseOptions(viewer.session)) {
    nav.push({ href: '/options', label: 'Options', children: optionsItems });
    if (viewer.group?.isAdmin) nav.push({ href: '/manage', label: 'Manage', children: manageItems(viewer.group) });
  }
  return nav;
}
