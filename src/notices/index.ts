/** Login notices (issue 16): mail the owner when an alternative login is used; answer links. */
export { noteLoginUse, pruneOldNotices, sendDueNotices, settleLoginNotices, startNoticeSweeper } from './queue.js';
export { deliverDueNotices, verifiedDefaultAddress } from './delivery.js';
export { answerNotice, checkNoticeLink, type NoticeLinkCheck, type NoticeView } from './answer.js';
export { NOTICE_KINDS, NOTICE_KIND_NAMES, noticeKindsOf, setNoticeKinds, type NoticeKind } from './settings.js';
export { METHOD_NAMES, noticeTime, printable } from './notice-mail.js';
