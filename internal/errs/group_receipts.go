package errs

// GroupReceiptNotFound: the group message has no read receipt (it was not sent
// with NeedReadReceipt, does not exist any more, or the member is not among
// those who count for it). The reference's code in get_group_msg_receipt's
// per-message Code (rest-api.md §3.7).
const GroupReceiptNotFound = 10062
