/* pyprint.h - text for printf that looks like what the course's print()
 * shows, so the console of a lesson reads like the course's console:
 *
 *   print(request.args)              printf("%s\n", py_multidict(rq, vial_args(rq)));
 *   print(request.args.get("age"))   printf("%s\n", py_none(vial_arg(rq, "age")));
 *   print(request.json)              printf("%s\n", py_value(rq, vial_get_json(rq)));
 *
 * Every string returned lives in the request's arena (no free). Where C holds
 * another kind of thing than Python (print(type(x))), the C side says what C
 * holds: the vial_value type. */
#ifndef TUTORIAL_PYPRINT_H
#define TUTORIAL_PYPRINT_H

#include <vial.h>

/* print(s) of a str that may be None: s, or "None". */
const char *py_none(const char *s);
/* "True" / "False". */
const char *py_bool(bool b);
/* repr(s) of a str: 'xiaoming' (None for NULL). */
const char *py_str(vial_req *rq, const char *s);
/* repr() of bytes: b'user=xiaoming&age=16'. */
const char *py_bytes(vial_req *rq, vial_str bytes);
/* repr() of a list of str: ['shopping', 'coding', 'rap']. */
const char *py_list(vial_req *rq, vial_strs items);
/* repr() of a MultiDict: ImmutableMultiDict([('user', 'xiaoming'), ('age', '16')]). */
const char *py_multidict(vial_req *rq, const vial_multidict *md);
/* repr() of a FileStorage: <FileStorage: 's.png' ('image/png')>, or None. */
const char *py_file(vial_req *rq, const vial_file *file);
/* repr() of request.files: ImmutableMultiDict([('avatar', <FileStorage: ...>)]). */
const char *py_files(vial_req *rq, const vial_files *files);
/* repr() of request.files.getlist(...): [<FileStorage: ...>, ...]. */
const char *py_file_list(vial_req *rq, vial_files files);
/* repr() of a JSON value as Python holds it: {'name': '小明', 'tags': [None, True]}. */
const char *py_value(vial_req *rq, const vial_value *v);
/* str(request.headers): "Name: value\r\n" per header, then "\r\n". */
const char *py_headers(vial_req *rq);
/* An address "127.0.0.1:5000" as request.server shows it: ('127.0.0.1', 5000). */
const char *py_address(vial_req *rq, const char *address);
/* print(response): <Response 21 bytes [201]>. */
const char *py_response(vial_req *rq, vial_res *rs);
/* print(app.url_map): Map([<Rule '/user' (GET, HEAD, OPTIONS) -> index>, ...]). */
const char *py_url_map(vial_req *rq);
/* What print(type(x)) says in C: the vial_value type, "<VIAL_DOUBLE>". */
const char *type_name(const vial_value *v);

#endif
