"""Working-day calendar (工作日历): holidays, 调休 make-up days and deadline arithmetic."""
