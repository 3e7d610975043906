package restapi

import "github.com/chatd/chatd/internal/im"

// Group attributes (group_open_attr_http_svc) and group counters
// (group_open_http_svc), reference §3.7; registered by registerGroupExtras.

// attrItem is one GroupAttr / GroupAttrAry item: the reference spells its
// fields in lower case.
type attrItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func attrItems(items []attrItem) []im.KeyValue {
	out := make([]im.KeyValue, len(items))
	for i, it := range items {
		out[i] = im.KeyValue{Key: it.Key, Value: it.Value}
	}
	return out
}

type attrReq struct {
	GroupId   string
	GroupAttr []attrItem
}

// group_open_attr_http_svc/get_group_attr: {GroupId} -> GroupAttrAry[{key, value}] by key.
func getGroupAttr(c *call) (any, error) {
	var req struct{ GroupId string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	kvs, err := c.im().GroupAttrs(c.ctx, c.app, req.GroupId)
	if err != nil {
		return nil, err
	}
	out := make([]attrItem, len(kvs))
	for i, kv := range kvs {
		out[i] = attrItem{kv.Key, kv.Value}
	}
	return struct{ GroupAttrAry []attrItem }{out}, nil
}

func putGroupAttr(c *call, replace bool) (any, error) {
	var req attrReq
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().PutGroupAttrs(c.ctx, c.app, req.GroupId, attrItems(req.GroupAttr), replace)
}

// group_open_attr_http_svc/modify_group_attr: {GroupId, GroupAttr[{key, value}]}
// adds keys or replaces their values -> envelope.
func modifyGroupAttr(c *call) (any, error) { return putGroupAttr(c, false) }

// group_open_attr_http_svc/set_group_attr: {GroupId, GroupAttr[{key, value}]}
// replaces all the group's attributes -> envelope.
func setGroupAttr(c *call) (any, error) { return putGroupAttr(c, true) }

// group_open_attr_http_svc/clear_group_attr: {GroupId} -> envelope.
func clearGroupAttr(c *call) (any, error) {
	var req struct{ GroupId string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().ClearGroupAttrs(c.ctx, c.app, req.GroupId)
}

type counterItem struct {
	Key   string
	Value int64
}

func counterItems(vs []im.CounterValue) []counterItem {
	out := make([]counterItem, len(vs))
	for i, v := range vs {
		out[i] = counterItem{v.Key, v.Value}
	}
	return out
}

// group_open_http_svc/get_group_counter: {GroupId, GroupCounterKeys (empty:
// all)} -> GroupCounter[{Key, Value}].
func getGroupCounter(c *call) (any, error) {
	var req struct {
		GroupId          string
		GroupCounterKeys []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	vs, err := c.im().GroupCounters(c.ctx, c.app, req.GroupId, req.GroupCounterKeys)
	if err != nil {
		return nil, err
	}
	return struct{ GroupCounter []counterItem }{counterItems(vs)}, nil
}

// group_open_http_svc/update_group_counter: {GroupId, GroupCounter[{Key,
// Value}], Mode: "Set"/"Increase"/"Decrease"} -> GroupCounter[{Key, Value}]
// (the new values).
func updateGroupCounter(c *call) (any, error) {
	var req struct {
		GroupId      string
		GroupCounter []counterItem
		Mode         string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in := make([]im.CounterValue, len(req.GroupCounter))
	for i, it := range req.GroupCounter {
		in[i] = im.CounterValue{Key: it.Key, Value: it.Value}
	}
	vs, err := c.im().UpdateGroupCounters(c.ctx, c.app, req.GroupId, req.Mode, in)
	if err != nil {
		return nil, err
	}
	return struct{ GroupCounter []counterItem }{counterItems(vs)}, nil
}

// group_open_http_svc/delete_group_counter: {GroupId, GroupCounterKeys} -> envelope.
func deleteGroupCounter(c *call) (any, error) {
	var req struct {
		GroupId          string
		GroupCounterKeys []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, c.im().DeleteGroupCounters(c.ctx, c.app, req.GroupId, req.GroupCounterKeys)
}
