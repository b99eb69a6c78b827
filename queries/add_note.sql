-- Add notes to a logged run.
INSERT INTO mltrace_notes (SpanId, Notes) VALUES ({run_id:String}, {notes:String})
