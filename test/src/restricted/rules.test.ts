import { describe, expect, it } from 'vitest';
import { type MailAction, restrictedRefusal } from '../../../src/restricted/rules.js';

/** The rule: a hijacker must not be able to make mail disappear from the owner's view. */
describe('what a restricted session may do', () => {
  const allowed: MailAction[] = [
    { kind: 'copy' },
    { kind: 'create-folder' },
    { kind: 'subscribe' },
    { kind: 'append', flags: [] },
    { kind: 'append', flags: ['\\Seen', '\\Draft', '$Label1'] },
    { kind: 'change-flags', change: 'add', flags: ['\\Seen'] },
    { kind: 'change-flags', change: 'add', flags: ['\\Flagged', '\\Answered', '\\Draft', '$Forwarded', 'Work'] },
    { kind: 'change-flags', change: 'remove', flags: ['\\Seen'] },
    { kind: 'change-flags', change: 'remove', flags: ['\\flagged'] },
  ];
  it.each(allowed.map((a) => [JSON.stringify(a), a] as const))('allows %s', (_name, action) => {
    expect(restrictedRefusal(action)).toBeNull();
  });

  const refused: [MailAction, string][] = [
    [{ kind: 'expunge' }, 'restricted.expunge'],
    [{ kind: 'move-out' }, 'restricted.move'],
    [{ kind: 'replace-message' }, 'restricted.replace'],
    [{ kind: 'delete-folder' }, 'restricted.delete-folder'],
    [{ kind: 'rename-folder' }, 'restricted.rename-folder'],
    [{ kind: 'unsubscribe' }, 'restricted.unsubscribe'],
    [{ kind: 'change-access' }, 'restricted.acl'],
    [{ kind: 'change-settings' }, 'restricted.settings'],
    [{ kind: 'manage-logins' }, 'restricted.logins'],
    [{ kind: 'end-sessions' }, 'restricted.sessions'],
    [{ kind: 'run-filter' }, 'restricted.filter'],
    [{ kind: 'append', flags: ['\\Deleted'] }, 'restricted.append-deleted'],
    [{ kind: 'append', flags: ['\\Seen', '\\DELETED'] }, 'restricted.append-deleted'],
    [{ kind: 'change-flags', change: 'add', flags: ['\\Deleted'] }, 'restricted.flag-deleted'],
    [{ kind: 'change-flags', change: 'add', flags: ['\\Seen', '\\deleted'] }, 'restricted.flag-deleted'],
    [{ kind: 'change-flags', change: 'add', flags: ['\\Recent'] }, 'restricted.flag-system'],
    [{ kind: 'change-flags', change: 'replace', flags: [] }, 'restricted.flags-replace'],
    [{ kind: 'change-flags', change: 'replace', flags: ['\\Seen'] }, 'restricted.flags-replace'],
    [{ kind: 'change-flags', change: 'remove', flags: ['\\Answered'] }, 'restricted.flag-remove'],
    [{ kind: 'change-flags', change: 'remove', flags: ['$Junk'] }, 'restricted.flag-remove'],
    [{ kind: 'change-flags', change: 'remove', flags: ['\\Seen', 'Work'] }, 'restricted.flag-remove'],
  ];
  it.each(refused.map(([a, r]) => [JSON.stringify(a), a, r] as const))('refuses %s', (_name, action, reason) => {
    const refusal = restrictedRefusal(action);
    expect(refusal).toMatchObject({ code: 'NOPERM', reason });
    expect(refusal!.text).toMatch(/disabled in this session/);
  });
});
