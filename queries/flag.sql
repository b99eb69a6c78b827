-- Flag (1) or unflag (0) one output id; the latest write wins.
INSERT INTO mltrace_flags (OutputId, Flagged) VALUES ({output_id:String}, {flagged:UInt8})
