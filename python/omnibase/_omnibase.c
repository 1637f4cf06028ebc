/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omnibase._omnibase: the CPython binding over libomnibase's public header.  Only
 * conversions live here: parsing, matching, conditions and running are the library's, so
 * the command line and Python agree.  The Python layer (omnibase/__init__.py) wraps these
 * in the classes of SPEC §8.
 *
 * Errors: a library error becomes ValueError for bad input (-EINVAL, -EFBIG, -E2BIG,
 * -ENAMETOOLONG, -ERANGE), MemoryError for -ENOMEM, else OSError(errno, message) (which
 * Python narrows to FileNotFoundError and so on).  The message is the library's ob_error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "omnibase/omnibase.h"

static PyObject *raise_ob(int code, const char *msg)
{
	if (code >= 0)
		code = -EINVAL;
	if (!msg || !*msg)
		msg = strerror(-code);
	switch (code) {
	case -ENOMEM:
		return PyErr_NoMemory();
	case -EINVAL:
	case -EFBIG:
	case -E2BIG:
	case -ENAMETOOLONG:
	case -ERANGE:
		PyErr_SetString(PyExc_ValueError, msg);
		return NULL;
	default: {
		PyObject *args = Py_BuildValue("(is)", -code, msg);
		if (args) {
			PyErr_SetObject(PyExc_OSError, args);
			Py_DECREF(args);
		}
		return NULL;
	}
	}
}

/* ------------------------------------------------------------------ Context */

typedef struct {
	PyObject_HEAD ob_context *ctx;
} ContextObject;

static int context_fill(ob_context *ctx, PyObject *dict)
{
	if (!dict || dict == Py_None)
		return 0;
	if (!PyDict_Check(dict)) {
		PyErr_SetString(PyExc_TypeError, "context must be a dict of str to str");
		return -1;
	}
	PyObject *k, *v;
	Py_ssize_t pos = 0;
	while (PyDict_Next(dict, &pos, &k, &v)) {
		if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
			PyErr_SetString(PyExc_TypeError, "context must be a dict of str to str");
			return -1;
		}
		const char *ks = PyUnicode_AsUTF8(k), *vs = PyUnicode_AsUTF8(v);
		if (!ks || !vs)
			return -1;
		int r = ob_context_set(ctx, ks, vs);
		if (r < 0) {
			char msg[300];
			snprintf(msg, sizeof msg, "context key '%.128s': malformed key or value",
			         ks);
			raise_ob(r, msg);
			return -1;
		}
	}
	return 0;
}

static int context_init(ContextObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"values", NULL};
	PyObject *dict = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &dict))
		return -1;
	self->ctx = ob_context_free(self->ctx);
	if (ob_context_new(&self->ctx) < 0) {
		PyErr_NoMemory();
		return -1;
	}
	return context_fill(self->ctx, dict);
}

static void context_dealloc(ContextObject *self)
{
	ob_context_free(self->ctx);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ContextType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "omnibase._omnibase.Context",
    .tp_doc = PyDoc_STR("Context(values): KEY=VALUE pairs conditions are evaluated against."),
    .tp_basicsize = sizeof(ContextObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)context_init,
    .tp_dealloc = (destructor)context_dealloc,
};

static const ob_context *context_arg(PyObject *o, bool *ok)
{
	*ok = true;
	if (!o || o == Py_None)
		return NULL;
	if (!PyObject_TypeCheck(o, &ContextType)) {
		PyErr_SetString(PyExc_TypeError, "expected an omnibase._omnibase.Context or None");
		*ok = false;
		return NULL;
	}
	return ((ContextObject *)o)->ctx;
}

/* ------------------------------------------------------------------ CapSet */

typedef struct {
	PyObject_HEAD ob_capset *set;
	ob_limits limits; /* from capability files */
} CapSetObject;

static PyTypeObject CapSetType;

static int capset_init(CapSetObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "", kwlist))
		return -1;
	self->set = ob_capset_unref(self->set);
	ob_limits_init(&self->limits);
	if (ob_capset_new(&self->set) < 0) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

static void capset_dealloc(CapSetObject *self)
{
	ob_capset_unref(self->set);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *capset_load(CapSetObject *self, PyObject *args)
{
	const char *path, *workdir = NULL;
	if (!PyArg_ParseTuple(args, "s|z", &path, &workdir))
		return NULL;
	ob_error e = {0};
	int r = ob_capfile_load(path, workdir, self->set, &self->limits, &e);
	if (r < 0)
		return raise_ob(r, e.msg);
	Py_RETURN_NONE;
}

/* A capability from (type name, resource, workdir, conditions dict). */
static ob_capability *make_cap(const char *type_name, PyObject *resource, const char *workdir,
                               PyObject *conds)
{
	ob_cap_type t = ob_cap_type_from_string(type_name);
	if (t < 0) {
		char msg[200];
		snprintf(msg, sizeof msg, "unknown capability type '%.64s'", type_name);
		raise_ob(-EINVAL, msg);
		return NULL;
	}
	Py_ssize_t len;
	const char *res = PyUnicode_AsUTF8AndSize(resource, &len);
	if (!res)
		return NULL;
	ob_capability *cap = NULL;
	ob_error e = {0};
	int r = ob_capability_new(&cap, t, res, (size_t)len, workdir, &e);
	if (r < 0) {
		raise_ob(r, e.msg);
		return NULL;
	}
	if (conds && conds != Py_None) {
		if (!PyDict_Check(conds)) {
			ob_capability_free(cap);
			PyErr_SetString(PyExc_TypeError, "conditions must be a dict of str to str");
			return NULL;
		}
		PyObject *k, *v;
		Py_ssize_t pos = 0;
		while (PyDict_Next(conds, &pos, &k, &v)) {
			const char *ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
			const char *vs = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
			if (!ks || !vs) {
				ob_capability_free(cap);
				if (!PyErr_Occurred())
					PyErr_SetString(PyExc_TypeError,
					                "conditions must be a dict of str to str");
				return NULL;
			}
			r = ob_capability_add_condition(cap, ks, vs, &e);
			if (r < 0) {
				ob_capability_free(cap);
				raise_ob(r, e.msg);
				return NULL;
			}
		}
	}
	return cap;
}

static PyObject *capset_add(CapSetObject *self, PyObject *args)
{
	const char *type_name, *workdir = NULL;
	PyObject *resource, *conds = NULL;
	if (!PyArg_ParseTuple(args, "sU|zO", &type_name, &resource, &workdir, &conds))
		return NULL;
	ob_capability *cap = make_cap(type_name, resource, workdir, conds);
	if (!cap)
		return NULL;
	int r = ob_capset_add(self->set, cap);
	ob_capability_free(cap);
	if (r < 0)
		return raise_ob(r, NULL);
	Py_RETURN_NONE;
}

static PyObject *capset_has(CapSetObject *self, PyObject *args)
{
	const char *type_name, *workdir = NULL;
	PyObject *resource, *conds = NULL, *ctxo = NULL;
	if (!PyArg_ParseTuple(args, "sU|zOO", &type_name, &resource, &workdir, &conds, &ctxo))
		return NULL;
	bool ok;
	const ob_context *ctx = context_arg(ctxo, &ok);
	if (!ok)
		return NULL;
	ob_capability *cap = make_cap(type_name, resource, workdir, conds);
	if (!cap)
		return NULL;
	bool has = ob_capset_has_capability(self->set, cap, ctx);
	ob_capability_free(cap);
	return PyBool_FromLong(has);
}

static PyObject *capset_set_workdir(CapSetObject *self, PyObject *args)
{
	const char *dir;
	if (!PyArg_ParseTuple(args, "s", &dir))
		return NULL;
	int r = ob_capset_set_workdir(self->set, dir);
	if (r < 0) {
		char msg[PATH_MAX + 64];
		snprintf(msg, sizeof msg, "workdir '%s': not an absolute, well-formed path", dir);
		return raise_ob(r, msg);
	}
	Py_RETURN_NONE;
}

static PyObject *capset_items(CapSetObject *self, PyObject *Py_UNUSED(ignored))
{
	size_t n = ob_capset_size(self->set);
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		const ob_capability *c = ob_capset_get(self->set, i);
		size_t nc = ob_capability_n_conditions(c);
		PyObject *conds = PyDict_New();
		for (size_t j = 0; conds && j < nc; j++) {
			const char *k, *v;
			(void)ob_capability_condition(c, j, &k, &v);
			PyObject *vo = PyUnicode_FromString(v);
			if (!vo || PyDict_SetItemString(conds, k, vo) < 0)
				Py_CLEAR(conds);
			Py_XDECREF(vo);
		}
		PyObject *item =
		    conds ? Py_BuildValue("(ssN)", ob_cap_type_to_string(ob_capability_type(c)),
		                          ob_capability_resource(c), conds)
		          : NULL;
		if (!item) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, item);
	}
	return list;
}

static PyObject *capset_to_json(CapSetObject *self, PyObject *Py_UNUSED(ignored))
{
	char *s = NULL;
	if (ob_capset_to_json(self->set, &self->limits, &s) < 0)
		return PyErr_NoMemory();
	PyObject *o = PyUnicode_FromString(s);
	free(s);
	return o;
}

/* check(kind, context, a, b=None): None when allowed; otherwise a tuple (code, type,
 * operation, resource, needed, message) for the Python layer to raise as it likes. */
static PyObject *capset_check(CapSetObject *self, PyObject *args)
{
	const char *kind, *a, *b = NULL;
	PyObject *ctxo, *bo = Py_None;
	if (!PyArg_ParseTuple(args, "sOs|O", &kind, &ctxo, &a, &bo))
		return NULL;
	bool ok;
	const ob_context *ctx = context_arg(ctxo, &ok);
	if (!ok)
		return NULL;
	unsigned long port = 0;
	if (strcmp(kind, "network") == 0) {
		port = PyLong_AsUnsignedLong(bo);
		if (PyErr_Occurred() || port > 65535) {
			PyErr_Clear();
			PyErr_SetString(PyExc_ValueError, "port must be an int in 0..65535");
			return NULL;
		}
	} else if (bo != Py_None) {
		b = PyUnicode_Check(bo) ? PyUnicode_AsUTF8(bo) : NULL;
		if (!b) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "mode must be a str");
			return NULL;
		}
	}
	ob_cap_error e = {0};
	int r;
	if (strcmp(kind, "file_read") == 0)
		r = ob_check_file_read(self->set, ctx, a, &e);
	else if (strcmp(kind, "file_write") == 0)
		r = ob_check_file_write(self->set, ctx, a, &e);
	else if (strcmp(kind, "network") == 0)
		r = ob_check_network(self->set, ctx, a, (unsigned)port, &e);
	else if (strcmp(kind, "unix_socket") == 0)
		r = ob_check_unix_socket(self->set, ctx, a, &e);
	else if (strcmp(kind, "command") == 0)
		r = ob_check_command(self->set, ctx, a, &e);
	else if (strcmp(kind, "secret") == 0)
		r = ob_check_secret(self->set, ctx, a, &e);
	else if (b && strcmp(kind, "registry") == 0)
		r = ob_check_registry(self->set, ctx, a, b, &e);
	else if (b && strcmp(kind, "artifact") == 0)
		r = ob_check_artifact(self->set, ctx, a, b, &e);
	else if (b && strcmp(kind, "database") == 0)
		r = ob_check_database(self->set, ctx, a, b, &e);
	else {
		PyErr_Format(PyExc_ValueError, "unknown check '%s' (or its mode missing)", kind);
		return NULL;
	}
	if (r == 0)
		Py_RETURN_NONE;
	if (r != -EACCES)
		return raise_ob(r, e.msg);
	return Py_BuildValue("(isssss)", r, ob_cap_type_to_string(e.type), e.operation, e.resource,
	                     e.needed, e.msg);
}

static PyObject *capset_copy(CapSetObject *self, PyObject *Py_UNUSED(ignored))
{
	CapSetObject *c = PyObject_New(CapSetObject, &CapSetType);
	if (!c)
		return NULL;
	c->limits = self->limits;
	c->set = NULL;
	if (ob_capset_union(self->set, self->set, &c->set) < 0) {
		Py_DECREF(c);
		return PyErr_NoMemory();
	}
	return (PyObject *)c;
}

static Py_ssize_t capset_len(CapSetObject *self)
{
	return (Py_ssize_t)ob_capset_size(self->set);
}

static PyMethodDef capset_methods[] = {
    {"load", (PyCFunction)capset_load, METH_VARARGS,
     PyDoc_STR("load(path, workdir=None): add a capability file's grants and limits")},
    {"add", (PyCFunction)capset_add, METH_VARARGS,
     PyDoc_STR("add(type, resource, workdir=None, conditions=None)")},
    {"has", (PyCFunction)capset_has, METH_VARARGS,
     PyDoc_STR("has(type, resource, workdir=None, conditions=None, context=None) -> bool")},
    {"set_workdir", (PyCFunction)capset_set_workdir, METH_VARARGS,
     PyDoc_STR("set_workdir(dir): where relative request paths resolve")},
    {"items", (PyCFunction)capset_items, METH_NOARGS,
     PyDoc_STR("items() -> [(type, resource, conditions)]")},
    {"to_json", (PyCFunction)capset_to_json, METH_NOARGS,
     PyDoc_STR("to_json() -> str: the set and its file's limits")},
    {"copy", (PyCFunction)capset_copy, METH_NOARGS,
     PyDoc_STR("copy() -> CapSet: an independent copy (grants, workdir, limits)")},
    {"check", (PyCFunction)capset_check, METH_VARARGS,
     PyDoc_STR("check(kind, context, a, b=None) -> None or a denial tuple")},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods capset_seq = {.sq_length = (lenfunc)capset_len};

static PyTypeObject CapSetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "omnibase._omnibase.CapSet",
    .tp_doc = PyDoc_STR("CapSet(): a libomnibase capability set (ob_capset)."),
    .tp_basicsize = sizeof(CapSetObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)capset_init,
    .tp_dealloc = (destructor)capset_dealloc,
    .tp_methods = capset_methods,
    .tp_as_sequence = &capset_seq,
};

/* ------------------------------------------------------------------ run */

/* Calls ADD(sb, item, &e) for every str of the list L (None: none). */
static int each_str(PyObject *l, ob_sandbox *sb, int (*add)(ob_sandbox *, const char *, ob_error *),
                    const char *what)
{
	if (!l || l == Py_None)
		return 0;
	if (!PyList_Check(l)) {
		PyErr_Format(PyExc_TypeError, "%s must be a list of str", what);
		return -1;
	}
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
		PyObject *o = PyList_GET_ITEM(l, i);
		const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
		if (!s) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_TypeError, "%s must be a list of str", what);
			return -1;
		}
		ob_error e = {0};
		int r = add(sb, s, &e);
		if (r < 0) {
			raise_ob(r, e.msg);
			return -1;
		}
	}
	return 0;
}

static int add_log(ob_sandbox *sb, const char *path, ob_error *e)
{
	(void)e;
	return ob_sandbox_add_audit_log(sb, path);
}

static int add_socket(ob_sandbox *sb, const char *path, ob_error *e)
{
	(void)e;
	return ob_sandbox_add_audit_socket(sb, path);
}

/* The sandbox of one run, built from the keyword arguments (the GIL held). */
static int build(ob_sandbox *sb, ob_capset *set, CapSetObject *cs, PyObject *argv, PyObject *kw)
{
	static const char *strs[] = {"workdir", "mode",     "backend",
	                             "egress",  "registry", "artifacts"};
	const char *v[6] = {0};
	for (size_t i = 0; i < 6; i++) {
		PyObject *o = kw ? PyDict_GetItemString(kw, strs[i]) : NULL;
		if (!o || o == Py_None)
			continue;
		if (!PyUnicode_Check(o)) {
			PyErr_Format(PyExc_TypeError, "%s must be a str", strs[i]);
			return -1;
		}
		if (!(v[i] = PyUnicode_AsUTF8(o)))
			return -1;
	}
	ob_error e = {0};
	int r;
	if (v[0] && (r = ob_sandbox_set_workdir(sb, v[0], &e)) < 0)
		return raise_ob(r, e.msg), -1;
	if (v[4] && (r = ob_sandbox_set_registry(sb, v[4], &e)) < 0)
		return raise_ob(r, e.msg), -1;
	if (v[5] && (r = ob_sandbox_set_artifacts(sb, v[5], &e)) < 0)
		return raise_ob(r, e.msg), -1;
	if (v[1] && ob_sandbox_set_mode(sb, ob_sandbox_mode_from_string(v[1])) < 0) {
		PyErr_Format(PyExc_ValueError, "unknown mode '%s': expected sandbox, rx or rwx",
		             v[1]);
		return -1;
	}
	if (v[2] && ob_sandbox_set_backend(sb, ob_backend_from_string(v[2])) < 0) {
		PyErr_Format(PyExc_ValueError,
		             "unknown backend '%s': expected native, gvisor, crun or runc", v[2]);
		return -1;
	}
	if (v[3] && ob_sandbox_set_egress(sb, ob_egress_from_string(v[3])) < 0) {
		PyErr_Format(PyExc_ValueError,
		             "unknown egress '%s': expected both, proxy or transparent", v[3]);
		return -1;
	}

	ob_limits limits = cs ? cs->limits : (ob_limits){0};
	if (!cs)
		ob_limits_init(&limits);
	PyObject *lim = kw ? PyDict_GetItemString(kw, "limits") : NULL;
	if (lim && lim != Py_None) {
		if (!PyDict_Check(lim)) {
			PyErr_SetString(PyExc_TypeError, "limits must be a dict of str to str");
			return -1;
		}
		PyObject *k, *val;
		Py_ssize_t pos = 0;
		while (PyDict_Next(lim, &pos, &k, &val)) {
			const char *ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
			const char *vs = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val) : NULL;
			if (!ks || !vs) {
				if (!PyErr_Occurred())
					PyErr_SetString(PyExc_TypeError,
					                "limits must be a dict of str to str");
				return -1;
			}
			ob_limit l = ob_limit_from_string(ks);
			if (l < 0) {
				PyErr_Format(PyExc_ValueError, "unknown limit '%s'", ks);
				return -1;
			}
			if ((r = ob_limits_set_text(&limits, l, vs, &e)) < 0)
				return raise_ob(r, e.msg), -1;
		}
	}

	PyObject *ctxd = kw ? PyDict_GetItemString(kw, "context") : NULL;
	if (ctxd && ctxd != Py_None) {
		if (!PyDict_Check(ctxd)) {
			PyErr_SetString(PyExc_TypeError, "context must be a dict of str to str");
			return -1;
		}
		PyObject *k, *val;
		Py_ssize_t pos = 0;
		while (PyDict_Next(ctxd, &pos, &k, &val)) {
			const char *ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
			const char *vs = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val) : NULL;
			if (!ks || !vs) {
				if (!PyErr_Occurred())
					PyErr_SetString(PyExc_TypeError,
					                "context must be a dict of str to str");
				return -1;
			}
			if (ob_sandbox_set_context(sb, ks, vs) < 0) {
				PyErr_Format(PyExc_ValueError,
				             "context key '%s': malformed key or value", ks);
				return -1;
			}
		}
	}

	PyObject *o;
#define KW(name) (kw ? PyDict_GetItemString(kw, name) : NULL)
	if (each_str(KW("env"), sb, ob_sandbox_add_env, "env") < 0 ||
	    each_str(KW("secrets"), sb, ob_sandbox_add_secret, "secrets") < 0 ||
	    each_str(KW("audit_logs"), sb, add_log, "audit_logs") < 0 ||
	    each_str(KW("audit_sockets"), sb, add_socket, "audit_sockets") < 0)
		return -1;
#undef KW
	if ((o = kw ? PyDict_GetItemString(kw, "allow_degraded") : NULL) && PyObject_IsTrue(o))
		(void)ob_sandbox_set_allow_degraded(sb, true);
	if ((o = kw ? PyDict_GetItemString(kw, "verbose") : NULL) && PyObject_IsTrue(o))
		(void)ob_sandbox_set_verbose(sb, true);

	if (!PyList_Check(argv) || PyList_GET_SIZE(argv) == 0) {
		PyErr_SetString(PyExc_TypeError, "argv must be a non-empty list of str");
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(argv);
	char **av = PyMem_Calloc((size_t)n + 1, sizeof(char *));
	if (!av)
		return PyErr_NoMemory(), -1;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *a = PyList_GET_ITEM(argv, i);
		av[i] = PyUnicode_Check(a) ? (char *)PyUnicode_AsUTF8(a) : NULL;
		if (!av[i]) {
			PyMem_Free(av);
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError,
				                "argv must be a non-empty list of str");
			return -1;
		}
	}
	r = ob_sandbox_set_command(sb, av, &e);
	PyMem_Free(av);
	if (r < 0)
		return raise_ob(r, e.msg), -1;
	if (ob_sandbox_set_limits(sb, &limits) < 0 || ob_sandbox_set_capabilities(sb, set) < 0 ||
	    ob_sandbox_set_capture_output(sb, true) < 0)
		return PyErr_NoMemory(), -1;
	return 0;
}

static PyObject *read_events(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return PyErr_SetFromErrno(PyExc_OSError);
	PyObject *b = PyBytes_FromStringAndSize(NULL, size);
	if (!b)
		return NULL;
	char *p = PyBytes_AS_STRING(b);
	for (off_t got = 0; got < size;) {
		ssize_t k = read(fd, p + got, (size_t)(size - got));
		if (k <= 0) {
			Py_DECREF(b);
			return k < 0 ? PyErr_SetFromErrno(PyExc_OSError)
			             : PyErr_Format(PyExc_OSError, "short read");
		}
		got += k;
	}
	return b;
}

PyDoc_STRVAR(run_doc,
             "run(capset, argv, **options) -> dict\n\n"
             "One run through ob_sandbox_run(), the GIL released while it runs.  Options:\n"
             "workdir, mode, backend, egress, registry, artifacts (str), limits, context\n"
             "(dict of str), env, secrets (\"NAME=@FILE\"), audit_logs, audit_sockets (lists of\n"
             "str), "
             "allow_degraded, verbose (bool).  Events are collected in a memfd sink.");

static PyObject *py_run(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kw)
{
	PyObject *cso, *argv;
	if (!PyArg_ParseTuple(args, "OO", &cso, &argv))
		return NULL;
	if (cso != Py_None && !PyObject_TypeCheck(cso, &CapSetType)) {
		PyErr_SetString(PyExc_TypeError,
		                "capset must be an omnibase._omnibase.CapSet or None");
		return NULL;
	}
	CapSetObject *cs = cso == Py_None ? NULL : (CapSetObject *)cso;
	/* A private copy of the grants: the run never shares a set (nor its non-atomic
	 * reference count) with another thread. */
	ob_capset *set = NULL;
	int r = cs ? ob_capset_union(cs->set, cs->set, &set) : ob_capset_new(&set);
	if (r < 0)
		return PyErr_NoMemory();
	ob_sandbox *sb = NULL;
	if (ob_sandbox_new(&sb) < 0) {
		ob_capset_unref(set);
		return PyErr_NoMemory();
	}
	int efd = memfd_create("omnibase-events", MFD_CLOEXEC);
	if (efd < 0 || build(sb, set, cs, argv, kw) < 0 || ob_sandbox_add_audit_fd(sb, efd) < 0) {
		if (efd < 0)
			PyErr_SetFromErrno(PyExc_OSError);
		else if (!PyErr_Occurred())
			PyErr_NoMemory();
		if (efd >= 0)
			(void)close(efd);
		ob_sandbox_free(sb);
		ob_capset_unref(set);
		return NULL;
	}
	ob_result res;
	ob_error e = {0};
	Py_BEGIN_ALLOW_THREADS r = ob_sandbox_run(sb, &res, &e);
	Py_END_ALLOW_THREADS ob_sandbox_free(sb);
	ob_capset_unref(set);
	if (r < 0) {
		ob_result_done(&res);
		(void)close(efd);
		return raise_ob(r, e.msg);
	}
	PyObject *events = read_events(efd);
	(void)close(efd);
	PyObject *out =
	    events
	        ? Py_BuildValue(
	              "{s:i,s:i,s:i,s:O,s:O,s:K,s:K,s:I,s:O,s:s,s:y#,s:y#,s:N,s:s}", "exit_code",
	              res.exit_code, "status", res.status, "signal", res.signal, "timed_out",
	              res.timed_out ? Py_True : Py_False, "oom", res.oom ? Py_True : Py_False,
	              "duration_ms", (unsigned long long)res.duration_ms, "max_rss_kb",
	              (unsigned long long)res.max_rss_kb, "violations", res.violations,
	              "output_exceeded", res.output_exceeded ? Py_True : Py_False, "execution_id",
	              res.execution_id, "stdout", res.stdout_data ? res.stdout_data : "",
	              (Py_ssize_t)res.stdout_len, "stderr", res.stderr_data ? res.stderr_data : "",
	              (Py_ssize_t)res.stderr_len, "events", events, "message", e.msg)
	        : NULL;
	ob_result_done(&res);
	return out;
}

static PyObject *py_version(PyObject *Py_UNUSED(mod), PyObject *Py_UNUSED(ignored))
{
	return PyUnicode_FromString(ob_version());
}

static PyMethodDef module_methods[] = {
    {"run", (PyCFunction)(void (*)(void))py_run, METH_VARARGS | METH_KEYWORDS, run_doc},
    {"version", (PyCFunction)py_version, METH_NOARGS, PyDoc_STR("libomnibase's version")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "omnibase._omnibase",
    .m_doc = PyDoc_STR("The C binding over libomnibase; use the omnibase package."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__omnibase(void);
PyMODINIT_FUNC PyInit__omnibase(void)
{
	if (PyType_Ready(&ContextType) < 0 || PyType_Ready(&CapSetType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&module);
	if (!m)
		return NULL;
	Py_INCREF(&ContextType);
	Py_INCREF(&CapSetType);
	if (PyModule_AddObject(m, "Context", (PyObject *)&ContextType) < 0 ||
	    PyModule_AddObject(m, "CapSet", (PyObject *)&CapSetType) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
