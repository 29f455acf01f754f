# placeholder: the commitments branch replaces this file
def extract(turns, *, meeting_date=None):
    return [], []
