"""The printers room: ticket layout, ESC/POS encoding, PNG preview, printer drivers, the print spool."""
