"""The video bootstrap: whole videos drawn with replacement, found once per split (linear in the
frames per draw; `benchmarks/bootstrap.py` times 2000 videos × 32 frames)."""

import torch

from lssat_framework.train.evaluation import _resample, video_members


def test_a_draw_takes_whole_videos_each_under_a_new_id_as_the_per_video_search_did():
    generator = torch.Generator().manual_seed(3)
    videos = torch.randint(0, 40, (500,), generator=generator)  # frames of 40 videos, shuffled
    members = video_members({"video": videos})
    ids = torch.unique(videos)
    assert [m.tolist() for m in members] == [torch.nonzero(videos == v).flatten().tolist() for v in ids]
    index, new_ids = _resample(members, len(videos), torch.Generator().manual_seed(0))
    drawn = torch.randint(len(ids), (len(ids),), generator=torch.Generator().manual_seed(0)).tolist()
    assert index.tolist() == [i for v in drawn for i in members[v].tolist()]
    assert new_ids.tolist() == [draw for draw, v in enumerate(drawn) for _ in members[v]]
