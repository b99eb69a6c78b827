-- Whether any run read or wrote the pointer.
SELECT count() > 0 AS Known FROM mltrace_io WHERE Pointer = {pointer:String}
