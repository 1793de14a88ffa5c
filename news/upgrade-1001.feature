Profile version 1001: an upgrade step adds the new job records to every existing job; run it in Site Setup > Add-ons.
